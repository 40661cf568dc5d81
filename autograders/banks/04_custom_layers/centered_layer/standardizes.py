# Standardizes instead of centering: also divides by the standard deviation.
class CenteredLayer(nn.Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, X):
        if self.dim is None:
            return (X - X.mean()) / X.std()
        return (X - X.mean(dim=self.dim, keepdim=True)) / X.std(dim=self.dim, keepdim=True)
