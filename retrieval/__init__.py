"""Parsing, chunking, embedding and hybrid search for Guichet.

Works on plain Python objects (see ``retrieval.types``); never imports the web layer.
Heavy modules (torch, Chroma) are imported by the submodules that need them, so
``import retrieval`` stays cheap.
"""
