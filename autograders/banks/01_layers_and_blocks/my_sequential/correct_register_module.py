# register_module, and a forward that reduces over the registered values
import functools


class MySequential(nn.Module):
    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            self.register_module(f"{index}", module)

    def forward(self, X):
        return functools.reduce(lambda acc, module: module(acc), self._modules.values(), X)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        modules = tuple(self._modules.values())
        return modules[i]
