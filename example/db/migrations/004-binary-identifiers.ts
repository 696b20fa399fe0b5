/**
 * One spelling per product, end to end. The columns were made with the
 * server's default collation (utf8mb4_general_ci), which compares without
 * case or accents: `MUG-LOGO` and `mug-lögo` found the `mug-logo` row, while
 * Redis, comparing bytes, gave each spelling a figure of its own loaded with
 * the product's whole stock, so a sale spread over spellings passed the gate
 * and met only the database's guard. Binary collation makes the database
 * compare skus as Redis does (an unknown spelling is a 404 before anything is
 * written); Idempotency-Keys and hold ids, which Redis also compares byte for
 * byte, likewise. Widening uniqueness this way never breaks an index.
 */
import type { QueryInterface } from 'sequelize';

const BINARY = 'utf8mb4_bin';

const COLUMNS: [table: string, column: string, type: string, nullability: string][] = [
  ['products', 'sku', 'VARCHAR(64)', 'NOT NULL'],
  ['orders', 'sku', 'VARCHAR(64)', 'NOT NULL'],
  ['orders', 'idempotencyKey', 'VARCHAR(255)', 'NULL DEFAULT NULL'],
  ['orders', 'holdId', 'VARCHAR(255)', 'NULL DEFAULT NULL'],
];

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  const { sequelize } = queries;
  for (const [table, column, type, nullability] of COLUMNS) {
    await sequelize.query(`ALTER TABLE \`${table}\` MODIFY \`${column}\` ${type} CHARACTER SET utf8mb4 COLLATE ${BINARY} ${nullability}`);
  }
}
