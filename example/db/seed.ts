import { UNLIMITED_STOCK } from '../../lib';
import type { ProductModel } from './models';

/** What a fresh shop sells, so that `npm start` has something to order. */
export const SEED_PRODUCTS = [
  { sku: 'tee-black-m', name: 'Black T-shirt (M)', stock: 100 },
  { sku: 'mug-logo', name: 'Logo mug', stock: 25 },
  { sku: 'sticker-pack', name: 'Sticker pack', stock: 500 },
  { sku: 'ebook-guide', name: 'Flash-sale guide (e-book)', stock: UNLIMITED_STOCK },
];

/** Seeds the products when the table is empty; a concurrent seeder's rows are kept. */
export async function seedProducts(Product: ProductModel): Promise<void> {
  if ((await Product.count()) > 0) return;
  await Product.bulkCreate(SEED_PRODUCTS, { ignoreDuplicates: true });
}
