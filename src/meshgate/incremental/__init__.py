"""The incremental core: computations that record what they read, and forget only what a change touched.

A change to an input object names the reads it can affect (`deps.changed_reads`); a memoized
computation (`memo.Memo`) remembers the reads it made, itself and through every memo it used,
and is dropped exactly when one of them is affected. Discovery and the cluster builder keep
their results in such memos across changes (ARCHITECTURE §1), so a change recomputes only
the service models, endpoints, plans, clusters and load assignments that depend on it.
"""
