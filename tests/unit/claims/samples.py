"""Claim-file snippets shared by the audit tests (a [source.t] table is prepended by the fixture)."""

GOOD = '''
[claim.good]
statement = "74 TFLOPS is 211 tok/s"
source = "t"
date = "2023-07"
kind = "throughput-from-flops"
claimed = 211
unit = "token/s"
model = "gpt-3-175b"
inputs = { achieved = "74 TFLOP/s" }
'''
