"""The asker's side: asking (at once or streamed), answers, feedback, asking a person."""
