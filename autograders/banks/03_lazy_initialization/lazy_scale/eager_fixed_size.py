# Not lazy at all: a weight of ones with a fixed size of 3, created in __init__
class LazyScale(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(3))

    def forward(self, X):
        if X.shape[-1] != self.weight.shape[0]:
            raise RuntimeError("wrong number of features")
        return X * self.weight
