using Rvpt.Cli;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>The numbers behind the resistivity charts.</summary>
public class ResistivityCsvTests
{
    [Fact]
    public void Writes_a_row_per_perturbation_and_block_with_both_models_and_quotes_names_with_commas()
    {
        var before = new Dictionary<string, double[]> { ["flip"] = [0.9, 0.5], ["blur (k=3, sigma=5)"] = [1.0, 0.25] };
        var after = new Dictionary<string, double[]> { ["flip"] = [0.95, 0.75] };

        var csv = ResistivityCsv.Format(before, after);

        Assert.Equal(
            "perturbation,block,undefended,rvpt\n" +
            "flip,1,0.9,0.95\n" +
            "flip,2,0.5,0.75\n" +
            "\"blur (k=3, sigma=5)\",1,1,\n" +
            "\"blur (k=3, sigma=5)\",2,0.25,\n",
            csv);
    }

    [Fact]
    public void Without_rvpt_the_rvpt_column_is_empty()
    {
        var csv = ResistivityCsv.Format(new Dictionary<string, double[]> { ["noise"] = [0.125] }, null);
        Assert.Equal("perturbation,block,undefended,rvpt\nnoise,1,0.125,\n", csv);
    }
}
