# Registers under '0', '1', ... but walks the names sorted as text: from 11 modules on, '10' runs before '2'
class MySequential(nn.Module):
    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            self.add_module(str(index), module)

    def forward(self, X):
        for name in sorted(self._modules):
            X = self._modules[name](X)
        return X

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return list(self._modules.values())[i]
