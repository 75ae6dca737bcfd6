"""The IVIG / Long COVID assistant: curated content, NLP pipeline, widget and launcher."""
