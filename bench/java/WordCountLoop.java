// The JVM peer of the stream word count benchmark: what a Java developer would write by hand.
// A plain KafkaConsumer (no group, every partition assigned) polls the topic from the start,
// splits each line on spaces and counts the words in a HashMap, until it has seen every
// record. It prints one JSON line in the shape of the Node cases' reports.
//
// Timing is steady state: from the first record handed to the loop to the last one counted,
// so JVM startup, class loading and the consumer's bootstrap are left out (the Node cases
// measure the same span).

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

public final class WordCountLoop {
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: WordCountLoop <brokers> <topic> <partitions> <records per partition>");
      System.exit(2);
    }
    String brokers = args[0];
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    long total = Long.parseLong(args[3]) * partitions;

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());

    Map<String, Integer> counts = new HashMap<>();
    long records = 0;
    long firstRecordNanos = 0;
    long lastRecordNanos = 0;
    long startupMs = 0;
    long cpuNanosAtFirstRecord = 0;
    try (KafkaConsumer<byte[], String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> assigned = new ArrayList<>();
      for (int p = 0; p < partitions; p++) assigned.add(new TopicPartition(topic, p));
      consumer.assign(assigned);
      consumer.seekToBeginning(assigned);
      while (records < total) {
        ConsumerRecords<byte[], String> polled = consumer.poll(Duration.ofMillis(100));
        if (polled.isEmpty()) continue;
        if (firstRecordNanos == 0) {
          firstRecordNanos = System.nanoTime();
          startupMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
          cpuNanosAtFirstRecord = processCpuNanos();
        }
        for (ConsumerRecord<byte[], String> record : polled) {
          records++;
          String line = record.value();
          if (line == null) continue;
          for (String word : line.split(" ")) counts.merge(word, 1, Integer::sum);
        }
        lastRecordNanos = System.nanoTime();
      }
    }
    long cpuMs = Math.round((processCpuNanos() - cpuNanosAtFirstRecord) / 1e6);
    double ms = (lastRecordNanos - firstRecordNanos) / 1e6;
    System.out.println(
        "{\"name\":\"Java KafkaConsumer poll loop + HashMap word count\",\"records\":" + records
            + ",\"ms\":" + ms
            + ",\"maxRssMb\":" + peakRssMb()
            + ",\"extra\":{\"distinct\":" + counts.size()
            + ",\"cpuMs\":" + cpuMs
            + ",\"startupMs\":" + startupMs
            + ",\"processors\":" + Runtime.getRuntime().availableProcessors() + "}}");
  }

  /** CPU time of the whole process (every JVM thread, GC and JIT included), as Node's process.cpuUsage(). */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The process's peak resident set (VmHWM), as Node's process.resourceUsage().maxRSS reports it. */
  private static long peakRssMb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
        return Math.round(kib / 1024.0);
      }
    }
    return -1;
  }
}
