# Wraps every index with i % len: net[len(net)] returns the first module instead of raising IndexError
class MySequential(nn.Module):
    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            self._modules[str(index)] = module

    def forward(self, X):
        for module in self._modules.values():
            X = module(X)
        return X

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return self._modules[str(i % len(self))]
