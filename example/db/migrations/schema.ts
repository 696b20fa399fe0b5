/** What a migration asks before it adds something, so that a table an older version made is migrated, not failed on. */
import { DataTypes, type QueryInterface } from 'sequelize';

export async function hasColumn(queries: QueryInterface, table: string, column: string): Promise<boolean> {
  return column in (await queries.describeTable(table));
}

export async function hasIndex(queries: QueryInterface, table: string, name: string): Promise<boolean> {
  const indexes = (await queries.showIndex(table)) as { name: string }[];
  return indexes.some((index) => index.name === name);
}

/** Adds a nullable string column and a unique index on it, each unless it is there. */
export async function addUniqueColumn(queries: QueryInterface, table: string, column: string, index: string): Promise<void> {
  if (!(await hasColumn(queries, table, column))) {
    await queries.addColumn(table, column, { type: DataTypes.STRING(255), allowNull: true });
  }
  if (!(await hasIndex(queries, table, index))) await queries.addIndex(table, [column], { unique: true, name: index });
}
