# Correct: the batch of outer products x x^T, flattened, times the weight reshaped to (in * in, out).
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(in_features, in_features, out_features))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, X):
        outer = X.unsqueeze(2) * X.unsqueeze(1)               # (batch, in, in)
        flat = outer.reshape(X.shape[0], -1)                   # (batch, in * in)
        return flat @ self.weight.reshape(-1, self.weight.shape[2])
