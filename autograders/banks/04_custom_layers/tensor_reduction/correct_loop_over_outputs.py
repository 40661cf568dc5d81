# Correct: one quadratic form per output, (X @ W_k) * X summed over features, stacked.
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.out_features = out_features
        self.weight = nn.Parameter(0.01 * torch.randn(in_features, in_features, out_features))

    def forward(self, X):
        columns = [((X @ self.weight[:, :, k]) * X).sum(dim=1) for k in range(self.out_features)]
        return torch.stack(columns, dim=1)
