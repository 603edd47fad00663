"""The embedded vLLM engine: preparing its model, running it as a child process."""
