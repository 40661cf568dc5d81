# Slices dimension 1 ([:, :k]) instead of the last one: right only for 2-D inputs.
class FourierHalf(nn.Module):
    def forward(self, X):
        n = X.shape[-1]
        return torch.fft.fft(X)[:, : math.ceil(n / 2)]
