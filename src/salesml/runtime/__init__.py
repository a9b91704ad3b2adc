"""The process a run lives in: interruptions (Ctrl-C, SIGTERM), the library log file
and the Spark session."""
