import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Prints every record of a topic as Kafka's own Java consumer sees it at an isolation level,
 * then exits: the tests' independent reader, so that sluice's reader never judges output
 * that sluice wrote. Usage:
 *
 *   TopicReader <bootstrap> <timeoutMs> <topic> <read_committed|read_uncommitted> [<topic> <isolation>]...
 *
 * For each pair, once no transaction is open on the topic (the last stable offset has reached
 * the high watermark: markers of a just-committed transaction are written after EndTxn
 * returns), it reads every partition from the log start to its end offset (the last stable
 * offset under read_committed) and prints one line per record, then a line `end`:
 *
 *   <partition> <offset> <key as base64, or -> <value as base64, or -> <headers, or ->
 *
 * where headers are `<name as base64>:<value as base64, or ->`, in order, joined by `|`.
 */
public final class TopicReader {
  public static void main(String[] args) {
    String bootstrap = args[0];
    long deadline = System.currentTimeMillis() + Long.parseLong(args[1]);
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false);
    for (int i = 2; i + 1 < args.length; i += 2) {
      read(bootstrap, args[i], args[i + 1], deadline, out);
      out.println("end");
    }
    out.flush();
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String isolation) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("client.id", "sluice-test-topic-reader");
    props.put("isolation.level", isolation);
    props.put("enable.auto.commit", "false");
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(props);
  }

  private static void read(String bootstrap, String topic, String isolation, long deadline, PrintStream out) {
    try (KafkaConsumer<byte[], byte[]> reader = consumer(bootstrap, isolation);
        KafkaConsumer<byte[], byte[]> committed = consumer(bootstrap, "read_committed");
        KafkaConsumer<byte[], byte[]> uncommitted = consumer(bootstrap, "read_uncommitted")) {
      List<TopicPartition> partitions = new ArrayList<>();
      reader.partitionsFor(topic, Duration.ofSeconds(30))
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      partitions.sort(Comparator.comparingInt(TopicPartition::partition));
      while (!committed.endOffsets(partitions).equals(uncommitted.endOffsets(partitions))) {
        check(deadline, "transactions on " + topic + " to close");
        Thread.sleep(20);
      }
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = reader.endOffsets(partitions);
      Base64.Encoder base64 = Base64.getEncoder();
      while (partitions.stream().anyMatch(tp -> reader.position(tp) < ends.get(tp))) {
        check(deadline, "the end of " + topic);
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(100))) {
          out.println(r.partition() + " " + r.offset() + " "
              + (r.key() == null ? "-" : base64.encodeToString(r.key())) + " "
              + (r.value() == null ? "-" : base64.encodeToString(r.value())) + " "
              + headers(r, base64));
        }
      }
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String headers(ConsumerRecord<byte[], byte[]> r, Base64.Encoder base64) {
    StringBuilder text = new StringBuilder();
    for (Header h : r.headers()) {
      if (text.length() > 0) text.append('|');
      text.append(base64.encodeToString(h.key().getBytes(StandardCharsets.UTF_8))).append(':');
      text.append(h.value() == null ? "-" : base64.encodeToString(h.value()));
    }
    return text.length() == 0 ? "-" : text.toString();
  }

  private static void check(long deadline, String what) {
    if (System.currentTimeMillis() > deadline) {
      System.err.println("TopicReader: timed out waiting for " + what);
      System.exit(2);
    }
  }
}
