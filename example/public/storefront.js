// The storefront: lists the products with their live stock and buys them
// through the same JSON API as any client (GET /products, POST /orders).

// Twice a second, so that a figure on screen is never more than a second old.
const REFRESH_MS = 500;

const list = document.querySelector('[data-role="products"]');
const message = document.querySelector('[data-role="message"]');
const payment = document.querySelector('[data-role="payment"]');

/**
 * A 409 of the product's per-customer limit: `bought` counts this buyer's
 * units, bought and still in checkout (a failed or abandoned checkout gives
 * its units back).
 */
function overLimit({ limit, bought }, name) {
  const left = Math.max(0, limit - bought);
  const more = left === 0 ? 'you cannot buy more' : `you can buy ${left} more`;
  return `Sorry, ${name} is limited to ${limit} per customer: you already have ${bought}, so ${more}.`;
}

/** What a buyer is told for each failed order, by status. */
const EXPLANATIONS = {
  400: (error) => `That order was not valid: ${error.message}.`,
  402: () => 'Your payment was declined. The order was not placed and nothing was charged.',
  404: () => 'This product is no longer sold.',
  409: (error, name) =>
    error.code === 'ERR_RESERVE_STOCK_LIMIT'
      ? overLimit(error, name)
      : `Sorry, ${name} is sold out: there are not enough units left for this order.`,
  503: () => 'The shop is very busy right now. Please try again in a moment.',
};

function explain(status, error, name) {
  const explanation = EXPLANATIONS[status];
  return explanation ? explanation(error, name) : 'Something went wrong on our side. Please try again.';
}

function say(text, kind) {
  message.textContent = text;
  message.className = `message ${kind}`;
}

/** The figure buyers can have: Redis's, or the database's until the first order loads it. */
function availableOf(product) {
  return product.available ?? product.stock;
}

function makeCard(product) {
  const card = document.createElement('li');
  card.className = 'product';
  card.dataset.sku = product.sku;
  card.innerHTML = `
    <h2></h2>
    <span class="sku"></span>
    <span class="stock"></span>
    <span class="limit" data-role="limit" hidden></span>
    <form class="buy">
      <input type="number" name="qty" min="1" value="1" aria-label="Quantity" data-role="qty">
      <button type="submit" data-action="buy">Buy</button>
    </form>`;
  card.querySelector('h2').textContent = product.name;
  card.querySelector('.sku').textContent = product.sku;
  card.querySelector('form').addEventListener('submit', (event) => {
    event.preventDefault();
    void buy(card);
  });
  return card;
}

function showStock(card, product) {
  const units = availableOf(product);
  const stock = card.querySelector('.stock');
  stock.dataset.stock = String(units);
  stock.textContent = units < 0 ? 'Unlimited' : units === 0 ? 'Sold out' : `${units} in stock`;
  card.classList.toggle('sold-out', units === 0);
  card.querySelector('[data-action="buy"]').disabled = units === 0;
  card.dataset.name = product.name;
  const limit = card.querySelector('[data-role="limit"]');
  limit.hidden = product.perCustomerLimit === null;
  limit.textContent = product.perCustomerLimit === null ? '' : `Limit ${product.perCustomerLimit} per customer`;
}

/** Updates the cards in place, so that a quantity being typed is kept. */
function render(products) {
  const cards = new Map([...list.children].map((card) => [card.dataset.sku, card]));
  products.forEach((product, i) => {
    const card = cards.get(product.sku) ?? makeCard(product);
    cards.delete(product.sku);
    showStock(card, product);
    if (list.children[i] !== card) list.insertBefore(card, list.children[i] ?? null);
  });
  for (const gone of cards.values()) gone.remove();
}

async function refresh() {
  try {
    const response = await fetch('/products');
    if (response.ok) render(await response.json());
  } catch {
    // The next refresh tries again; the figures on screen stay as they were.
  }
}

/** What the buyer is told once an order is placed, the figure just refreshed. */
function thanks(order, card) {
  const { name } = card.dataset;
  const last = card.querySelector('.stock').dataset.stock === '0' ? ` That was the last of it: ${name} is now sold out.` : '';
  return `Thank you! Order #${order.id}: ${order.qty} × ${name}.${last}`;
}

async function buy(card) {
  const qty = Number(card.querySelector('[data-role="qty"]').value);
  const { sku, name } = card.dataset;
  card.querySelector('[data-action="buy"]').disabled = true;
  try {
    const response = await fetch('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, qty, payment: payment.value }),
    });
    const body = await response.json();
    await refresh();
    if (response.ok) say(thanks(body, card), 'ok');
    else say(explain(response.status, body.error ?? {}, name), 'error');
  } catch {
    say('The shop could not be reached. Please try again.', 'error');
    await refresh();
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, REFRESH_MS);
}

void poll();
