"""Engine: durable, lease-guarded background modules run in short cycles."""
