"""Emulated Zoom and Brevo APIs, faithful to the official specs (tests, benchmarks, demo)."""
