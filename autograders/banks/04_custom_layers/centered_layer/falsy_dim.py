# Tests `if self.dim:`, so dim=0 is treated like None and the global mean is subtracted.
class CenteredLayer(nn.Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, X):
        if self.dim:
            return X - X.mean(dim=self.dim, keepdim=True)
        return X - X.mean()
