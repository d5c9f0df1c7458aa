package memory_test

import "flag"

var memSessions = flag.Int("sessions", 1_000_000, "sessions loaded by BenchmarkMemoryPerSession")
