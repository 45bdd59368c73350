"""local-llm-stack: the `llm` command that deploys private LLMs with Ansible."""

__version__ = "0.1.0"
