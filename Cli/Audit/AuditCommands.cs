using System.Globalization;
using EventSourcedChat.Cli.Api;
using Spectre.Console;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Cli.Audit;

/// <summary>Auditors' commands: export a channel's events to an NDJSON file, verify a file or a live channel.</summary>
public static class AuditCommands
{
    /// <summary>Streams <c>GET /v1/audit/channels/{ch}/events</c> into <paramref name="path"/>; answers the number of events written.</summary>
    public static async Task<long> ExportAsync(
        ChatApi api, IAnsiConsole console, string channelId, string path, long fromSeq, CancellationToken ct)
    {
        var url = $"/v1/audit/channels/{Uri.EscapeDataString(channelId)}/events?fromSeq={fromSeq}";
        using var response = await api.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        await ChatApi.EnsureSuccessAsync(response, ct);
        var from = Header(response, "X-Audit-From-Seq") ?? 1;
        var to = Header(response, "X-Audit-To-Seq") ?? 0;
        var expected = Math.Max(0, to - from + 1);
        long lines = 0;
        await console.Progress().AutoClear(false).StartAsync(async progress =>
        {
            var task = progress.AddTask($"export {channelId}", maxValue: Math.Max(1, expected));
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
                task.Value = lines;
            }
            task.Value = task.MaxValue;
        });
        if (lines != expected)
        {
            throw new CliException($"the export ended after {lines} of {expected} events");
        }
        console.MarkupLineInterpolated($"wrote {lines} events (seq {from}..{to}) to {path}");
        return lines;
    }

    /// <summary>Verifies an export file offline; exit code 0 when the chain holds, 2 when it does not.</summary>
    public static async Task<ChainResult> VerifyFileAsync(IAnsiConsole console, string path, string? channelId, CancellationToken ct)
    {
        ChainResult result = null!;
        await using var file = File.OpenRead(path);
        await console.Progress().AutoClear(false).StartAsync(async progress =>
        {
            var task = progress.AddTask($"verify {Path.GetFileName(path)}", maxValue: Math.Max(1, file.Length));
            result = await ChainVerifier.VerifyAsync(file, channelId is null ? null : StreamNames.Channel(channelId), bytes => task.Value = bytes, ct);
            task.Value = task.MaxValue;
        });
        Print(console, result);
        return result;
    }

    /// <summary><c>GET /v1/audit/channels/{ch}/verify</c>: the server recomputes the chain.</summary>
    public static async Task<ChainResult> VerifyLiveAsync(ChatApi api, IAnsiConsole console, string channelId, CancellationToken ct)
    {
        var answer = await console.Status().StartAsync($"verifying {channelId}", _ =>
            api.SendAsync(HttpMethod.Get, $"/v1/audit/channels/{Uri.EscapeDataString(channelId)}/verify", null, ct));
        var result = new ChainResult(answer.GetProperty("ok").GetBoolean(), answer.GetProperty("events").GetInt64(),
            answer.TryGetProperty("firstBadSeq", out var bad) ? bad.GetInt64() : null, null);
        Print(console, result);
        return result;
    }

    private static void Print(IAnsiConsole console, ChainResult result)
    {
        if (result.Ok)
        {
            console.MarkupLineInterpolated($"[green]ok[/]: {result.Events} events, the hash chain holds");
        }
        else
        {
            console.MarkupLineInterpolated($"[red]broken[/]: {result.Events} events, first bad seq {result.FirstBadSeq} {result.Problem}");
        }
    }

    private static long? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
