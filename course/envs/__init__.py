"""Environments that gymnasium lacks, behind gymnasium's ``reset``/``step`` interface.

Each module holds one family (bandit testbeds, small gridworlds, board games, toy experts); the
chapters that introduce them say how they are used. Everything is generated in-process: nothing is
downloaded.
"""
