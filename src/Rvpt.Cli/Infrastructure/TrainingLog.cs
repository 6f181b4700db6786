using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Rvpt.Cli;

/// <summary>
/// The JSON-lines training log of <c>rvpt defend</c>: one line per epoch (mean loss terms of the epoch's steps, learning
/// rate, validation accuracy, elapsed time), flushed as it is written, appended to on a resume.
/// </summary>
internal sealed class TrainingLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Stopwatch _clock;
    private double _loss, _ce, _fr;
    private int _steps;
    private TrainingProgress? _last;


    public TrainingLog(string path, bool append, Stopwatch clock)
    {
        _writer = new StreamWriter(path, append) { AutoFlush = true };
        _clock = clock;
    }

    public void Add(TrainingProgress p)
    {
        if (p.ValidationAccuracy is null)
        {
            _loss += p.Loss;
            _ce += p.CrossEntropy;
            _fr += p.Repelling;
            _steps++;
            _last = p;
            return;
        }
        var line = new JsonObject
        {
            ["epoch"] = p.Epoch,
            ["epochs"] = p.Epochs,
            ["steps"] = _steps,
            ["loss"] = JsonOutput.Number(_steps == 0 ? double.NaN : _loss / _steps),
            ["cross_entropy"] = JsonOutput.Number(_steps == 0 ? double.NaN : _ce / _steps),
            ["repelling"] = JsonOutput.Number(_steps == 0 ? double.NaN : _fr / _steps),
            ["lr"] = _last?.LearningRate ?? p.LearningRate,
            ["validation_accuracy"] = JsonOutput.Number(p.ValidationAccuracy.Value),
            ["elapsed_seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 3),
            ["time"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        };
        _writer.WriteLine(line.ToJsonString());
        (_loss, _ce, _fr, _steps) = (0, 0, 0, 0);
    }

    public void Dispose() => _writer.Dispose();
}
