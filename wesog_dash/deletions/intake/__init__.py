"""Intake: asking for a deletion, up to the moment it is committed and may be sent.

- `outbox`: a request and its items validated and committed before any call (`request_deletion`).
- `awaiting`: which new requests wait for a second person before anything is sent.
- `approval`: approve, reject or expire a request that waits for a second person.
- `pasted`: ids pasted from a ticket or spreadsheet, split, de-duplicated and checked one by one.
- `idlists`: lists of ids people bring, as pasted text or an uploaded `.txt` or `.csv` file.
- `selections`: the exact ids of a big deletion, stored and hashed before it is confirmed.
"""
