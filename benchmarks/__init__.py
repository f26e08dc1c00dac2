"""crossalign's benchmark suite (issue #6): ``python -m benchmarks`` writes a JSON file, a markdown table and a plot.

Every figure is a ratio of two things measured side by side in the same run (the machines are shared and noisy),
with the median and spread over interleaved repeats; memory is measured in a fresh process per configuration.
See ``benchmarks/__main__.py`` for the modes and the README's "Performance" section for the latest table.
"""
