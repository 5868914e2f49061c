"""sluice: Kafka direct streams in Python, exactly once."""
