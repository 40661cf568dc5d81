# setattr with the string names, explicit negative-index arithmetic, lookups by name
import operator


class MySequential(nn.Module):
    def __init__(self, *modules):
        super().__init__()
        self._count = 0
        for module in modules:
            setattr(self, str(self._count), module)
            self._count += 1

    def forward(self, X):
        out = X
        for k in range(self._count):
            out = getattr(self, str(k))(out)
        return out

    def __len__(self):
        return self._count

    def __getitem__(self, i):
        i = operator.index(i)
        if i < 0:
            i += self._count
        if i < 0 or i >= self._count:
            raise IndexError("MySequential index out of range")
        return getattr(self, str(i))
