# Iterates self.children() in forward: a module passed twice is applied only once
class MySequential(nn.Module):
    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            self._modules[str(index)] = module

    def forward(self, X):
        for module in self.children():
            X = module(X)
        return X

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return list(self._modules.values())[i]
