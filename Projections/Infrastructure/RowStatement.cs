using System.Globalization;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// A statement that applies a whole run of rows at once. A handler queues one row per event with
/// <see cref="EventContext.Row"/>; consecutive rows of the same statement are sent as one execution, their values as
/// one array per column, so a batch of a thousand posts costs a few statements instead of a thousand.
/// </summary>
/// <remarks>
/// <see cref="Sql"/> reads the rows through the placeholder <c>{rows}</c>, which becomes the from-item
/// <c>unnest(...) with ordinality as r(column..., n)</c>: <c>n</c> is the row's place in the run (1, 2, ...), in log
/// order. The statement must have the same effect as applying the rows one at a time in that order; runs are cut by
/// any other statement, so it never needs to account for one.
/// </remarks>
public sealed class RowStatement
{
    private readonly string _expanded;

    public RowStatement(string sql, params (string Name, string Type)[] columns)
    {
        ArgumentOutOfRangeException.ThrowIfZero(columns.Length);
        Sql = sql;
        Columns = columns;
        var arrays = string.Join(", ", columns.Select((c, i) => $"${(i + 1).ToString(CultureInfo.InvariantCulture)}::{c.Type}[]"));
        var names = string.Join(", ", columns.Select(c => c.Name));
        _expanded = sql.Replace("{rows}", $"unnest({arrays}) with ordinality as r({names}, n)", StringComparison.Ordinal);
    }

    public string Sql { get; }

    public IReadOnlyList<(string Name, string Type)> Columns { get; }

    internal NpgsqlBatchCommand Build(IReadOnlyList<object?[]> rows)
    {
        var command = new NpgsqlBatchCommand(_expanded);
        for (var column = 0; column < Columns.Count; column++)
        {
            var index = column;
            command.Parameters.Add(Array(Columns[column].Type, rows.Select(r => r[index])));
        }
        return command;
    }

    internal void Check(object?[] values)
    {
        if (values.Length != Columns.Count)
        {
            throw new ArgumentException($"The statement has {Columns.Count} columns; {values.Length} values were given.", nameof(values));
        }
    }

    private static NpgsqlParameter Array(string type, IEnumerable<object?> values) => type switch
    {
        "text" => new NpgsqlParameter<string?[]> { TypedValue = values.Select(v => (string?)v).ToArray() },
        "bigint" => new NpgsqlParameter<long?[]> { TypedValue = values.Select(v => v is null ? (long?)null : Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray() },
        "integer" => new NpgsqlParameter<int?[]> { TypedValue = values.Select(v => v is null ? (int?)null : Convert.ToInt32(v, CultureInfo.InvariantCulture)).ToArray() },
        "boolean" => new NpgsqlParameter<bool?[]> { TypedValue = values.Select(v => (bool?)v).ToArray() },
        "timestamptz" => new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = values.Select(v => ((DateTimeOffset?)v)?.ToUniversalTime()).ToArray() },
        _ => throw new NotSupportedException($"Column type {type} is not supported by RowStatement."),
    };

    public override string ToString() => _expanded;
}
