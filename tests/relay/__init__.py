"""Tests of the media relay (relay/), with real aiortc peers on 127.0.0.1."""
