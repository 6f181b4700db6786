using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// OpenAI's <c>CLIP.initialize_parameters</c>, applied to both towers and drawn from one seeded generator so a
/// random model is reproducible: embeddings N(0, 0.02) / N(0, 0.01), attention in-projections N(0, width^-0.5),
/// output projections N(0, width^-0.5 (2 layers)^-0.5), MLP inputs N(0, (2 width)^-0.5), vision class/positional
/// embeddings and both projections N(0, width^-0.5), patch convolution U(±fan_in^-0.5), biases zero, LayerNorms
/// identity, logit scale ln(1/0.07).
/// </summary>
internal static class ClipWeightInitializer
{
    public static void Initialize(ClipModel model, long seed)
    {
        var g = new Generator((ulong)seed, CPU);
        var c = model.Config;
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            bool visual = name.StartsWith("visual.", StringComparison.Ordinal);
            int width = visual ? c.Vision.Width : c.Text.Width;
            int layers = visual ? c.Vision.Layers : c.Text.Layers;
            double attnStd = Math.Pow(width, -0.5);
            double projStd = attnStd * Math.Pow(2 * layers, -0.5);
            double fcStd = Math.Pow(2 * width, -0.5);
            var leaf = name[(name.LastIndexOf('.') + 1)..];
            if (name == "logit_scale") p.fill_(Math.Log(1 / 0.07));
            else if (name.Contains(".ln_", StringComparison.Ordinal) || name.StartsWith("ln_final.", StringComparison.Ordinal) || name.Contains("ln_pre", StringComparison.Ordinal) || name.Contains("ln_post", StringComparison.Ordinal))
                p.fill_(leaf == "weight" ? 1.0 : 0.0);
            else if (leaf == "bias" || name.EndsWith("in_proj_bias", StringComparison.Ordinal)) p.zero_();
            else if (name == "token_embedding.weight") p.normal_(0, 0.02, g);
            else if (name == "positional_embedding") p.normal_(0, 0.01, g);
            else if (name == "text_projection" || name == "visual.proj") p.normal_(0, attnStd, g);
            else if (name is "visual.class_embedding" or "visual.positional_embedding") p.normal_(0, attnStd, g);
            else if (name == "visual.conv1.weight")
            {
                double bound = 1 / Math.Sqrt(3.0 * c.Vision.PatchSize * c.Vision.PatchSize);
                p.uniform_(-bound, bound, g);
            }
            else if (name.EndsWith("in_proj_weight", StringComparison.Ordinal)) p.normal_(0, attnStd, g);
            else if (name.EndsWith("out_proj.weight", StringComparison.Ordinal) || name.EndsWith("c_proj.weight", StringComparison.Ordinal)) p.normal_(0, projStd, g);
            else if (name.EndsWith("c_fc.weight", StringComparison.Ordinal)) p.normal_(0, fcStd, g);
            else throw new InvalidOperationException($"No initialisation rule for parameter '{name}'.");
        }
    }
}
