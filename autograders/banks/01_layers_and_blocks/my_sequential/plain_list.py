# Keeps the modules in a plain Python list: nothing is registered, so no parameters, no state_dict, no .double()
class MySequential(nn.Module):
    def __init__(self, *modules):
        super().__init__()
        self.blocks = list(modules)

    def forward(self, X):
        for block in self.blocks:
            X = block(X)
        return X

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        return self.blocks[i]
