"""Safety: what people may do about a deletion once asked for, and what it leaves behind.

- `control`: undo (in its window), pause, resume and cancel.
- `retry`: a new request of exactly the failed ids of a deletion.
- `restore`: deleted images brought back from their snapshots; old snapshots pruned.
- `report`: the completion report as CSV and the failed ids to copy.
- `standing`: what may be done with a deletion now, and the failure threshold it runs under.
- `once`: an action done once per idempotency key, whoever submits it again.
"""
