/**
 * What the built-in tools answer when the caller may not have what they asked for. Each is a sentence the model
 * can act on and speak; none says whether a record exists (an order someone else owns reads like a missing one).
 */
export const refusals = {
  noSession: 'This tool only runs inside a call on behalf of its caller; no caller identity came with the request.',
  unverifiedPhone:
    'The caller is not verified yet, so no account details can be shared. Ask for the account PIN and call ' +
    'verify_caller with it first.',
  unknownCustomer: 'No customer account is linked to this signed-in user, so no order or ticket details can be shared.',
  withheldNumber:
    'The caller is calling from a withheld or unknown number, so they cannot be verified on this line. Ask them ' +
    'to call back from the number on their account or to sign in on the website.',
  wrongPin:
    'That PIN does not match the account for this phone number. Ask the caller to check it; after a few wrong ' +
    'tries, offer to help through the website instead.',
  noSuchOrder: (orderId: string) =>
    `No order ${orderId} was found on this customer's account. Ask the customer to check the order number.`,
  noTicketForOrder: (orderId: string) =>
    `No order ${orderId} was found on this customer's account, so no ticket was opened. Check the number with ` +
    'the customer, or open the ticket without an order.',
} as const;
