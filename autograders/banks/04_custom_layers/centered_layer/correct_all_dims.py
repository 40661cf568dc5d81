# Correct: dim=None becomes "every dimension", so one code path handles both cases.
class CenteredLayer(nn.Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, X):
        dim = self.dim if self.dim is not None else list(range(X.ndim))
        return X - X.mean(dim, True)
