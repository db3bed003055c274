"""What the process tells operators: Prometheus metrics and OpenTelemetry traces."""
