"""Which layers write and read each tensor of a layer table, indexed once per engine.

Alignment (glue joins the layer it feeds or finishes), the fallback reasons (an epilogue's producer, a network
output nobody reads) and the graph (one edge per tensor read) all look layers up by tensor name. Each built its
own index from the ``inputs`` and ``outputs`` columns: the same flattening of a 100k-layer engine's ~270k tensor
entries three times in ``layerlens report``, about half a second each. :class:`TensorIndex` flattens the two
columns once (:func:`~engine_core.layer_table.tensor_rows`) and builds each lookup the first time it is asked
for; ``engine.analysis.tensors`` holds one per engine. Rows are positions in the table (0..n-1), not its index.
"""

from __future__ import annotations

from functools import cached_property
from itertools import compress

import pandas as pd

from engine_core.layer_table import tensor_rows


class TensorIndex:
    """The tensors of a layer table, in execution order.

    Attributes:
        written, writer_rows: every output tensor's ``Name`` and the row writing it, flattened in order.
        read, reader_rows: every input tensor's ``Name`` and the row reading it, flattened in order.
    """

    def __init__(self, layers: pd.DataFrame) -> None:
        self.written, self.writer_rows = tensor_rows(layers["outputs"].tolist())
        self.read, self.reader_rows = tensor_rows(layers["inputs"].tolist())

    @cached_property
    def last_writer(self) -> dict:
        """Tensor name -> the row that writes it, the last where several do."""
        return dict(zip(self.written, self.writer_rows))

    @cached_property
    def first_writer(self) -> dict:
        """Named tensor -> the first row that writes it (built backwards in C: the first one wins). Tensors without a
        name (missing, empty) are left out: the graph wires none of them."""
        named = list(map(bool, self.written))
        names, rows = list(compress(self.written, named)), list(compress(self.writer_rows, named))
        return dict(zip(reversed(names), reversed(rows)))

    @cached_property
    def first_reader(self) -> dict:
        """Tensor name -> the first row that reads it."""
        return dict(zip(reversed(self.read), reversed(self.reader_rows)))

    @cached_property
    def readers(self) -> dict[str, list[int]]:
        """Tensor name -> every row that reads it, in order (a row reading it twice is listed twice)."""
        out: dict[str, list[int]] = {}
        for name, row in zip(self.read, self.reader_rows):
            out.setdefault(name, []).append(row)
        return out
