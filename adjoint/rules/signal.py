"""Rules for ``scipy.signal``, loaded on first need (see ``registry.OPTIONAL``).

``convolve`` is bilinear, so its tangents apply it to one tangent at a time, and
the adjoint of ``in1`` is the correlation of the (full-size) output adjoint ``G``
with ``in2``: ``in1_bar = correlate(G, in2, 'valid')``. ``correlate(a, b)`` is
``convolve(a, flip(conj(b)))``, which gives its adjoints. Any number of
dimensions and every mode.
"""
import scipy.signal as ss

from .. import runtime as rt
from .registry import structural

G = "embed_full(g, in1, in2, mode)"

structural(ss.convolve, "in1, in2, mode='full', method='auto'",
           in1=f"scipy.signal.correlate({G}, in2, 'valid')",
           in2=f"scipy.signal.correlate({G}, in1, 'valid')", jvp="linear",
           notes="full, same and valid; N-D")
structural(ss.correlate, "in1, in2, mode='full', method='auto'",
           in1=f"scipy.signal.convolve({G}, in2, 'valid')",
           in2=f"np.conj(np.flip(scipy.signal.correlate({G}, in1, 'valid')))", jvp="linear",
           notes="full, same and valid; N-D")

structural(rt.embed_full, "cot, in1, in2, mode='full'", static="in1, in2", jvp="linear",
           cot="crop_mode(g, in1, in2, mode)")
structural(rt.crop_mode, "full, in1, in2, mode='full'", static="in1, in2", jvp="linear",
           full="embed_full(g, in1, in2, mode)")
