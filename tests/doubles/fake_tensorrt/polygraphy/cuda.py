"""Test double of ``polygraphy.cuda``: device buffers and a stream with fake pointers."""


class Stream:
    ptr = 1

    def synchronize(self) -> None:
        pass


class DeviceArray:
    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype, self.ptr = shape, dtype, 4096

    def free(self) -> None:
        self.ptr = 0
