"""Outcomes: what the API's answers and operations mean for a deletion and each of its images.

- `answers`: the API's answer to a chunk (attached, refused, in doubt, to send again later).
- `outcomes`: each image's outcome and the deletion's final state, from its operations.
- `stopping`: the failure stop; too many failed images drop the unsent chunks.
- `evidence`: which upstream operation could be a DELETE whose answer we lost.
- `reconciler`: settles an `unknown` deletion from that evidence only, never re-sending.
"""
