# Ignores dim: always subtracts the mean of all entries.
class CenteredLayer(nn.Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, X):
        return X - X.mean()
