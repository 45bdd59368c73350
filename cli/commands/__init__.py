"""One module per `llm` command."""
