"""Performance tools: the benchmark against stock Rasa (bench.py) and load scripts."""
