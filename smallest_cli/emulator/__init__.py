"""A local stand-in for the Waves API, for tests, demos and users' CI jobs.

It speaks the contract of ../shared/api (REFERENCE.md, the spec files, and the observed
behaviour of the live server where that differs), over real HTTP, SSE and WebSocket on
loopback. Its audio and transcripts are synthetic and deterministic, and every response
says so in the `X-Emulator` header.

What it shares with the client, and what it keeps to itself: pure format knowledge (which
container a body's first bytes announce, how G.711 decodes, how headerless audio goes in a
WAV header) lives once, in `smallest_cli.audio.formats` and `smallest_cli.audio.codecs`,
and the emulator uses it from there, since a second copy could only drift. The emulator keeps
its own copy wherever independence is the point: request validation (the accepted models,
voices, rates, encodings and limits), the voice catalog, and error bodies are written from
../shared/api, never imported from the client, so a client bug cannot make the emulator
agree with it.
"""
