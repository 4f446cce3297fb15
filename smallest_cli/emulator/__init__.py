"""A local stand-in for the Waves API, for tests, demos and users' CI jobs.

It speaks the contract of ../shared/api (REFERENCE.md, the spec files, and the observed
behaviour of the live server where that differs), over real HTTP, SSE and WebSocket on
loopback. Its audio and transcripts are synthetic and deterministic, and every response
says so in the `X-Emulator` header.
"""
