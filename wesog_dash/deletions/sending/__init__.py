"""Sending: the one way a committed deletion reaches the API, chunk by chunk.

- `dispatcher`: claims a request and calls DELETE for its chunks; the only caller of DELETE.
- `pacing`: the undo window, the check before each next chunk, how long a call may last.
- `flight`: each deletion's room for operations in flight upstream.
- `durable`: writes what the dispatcher learnt through a database that went away for a moment.
- `keeping`: each image's metadata, read and stored just before its chunk is sent.
- `holding`: holds back the images that could not be kept, when the request asked for it.
"""
