"""The benchmark: what authentication costs per request, ours against the peers (``make bench``).

See docs/performance.md for the method, the targets and the latest figures.
"""
