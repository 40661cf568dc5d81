# Uses X only once: y[b, k] = sum_ij weight[i, j, k] * X[b, i], a linear map instead of a quadratic one.
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, in_features, out_features) * 0.1)

    def forward(self, X):
        return torch.einsum("bi,ijk->bk", X, self.weight)
