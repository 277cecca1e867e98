-- Every nomination that has left the draft (and is not returned for correction, withdrawn or rejected)
-- carries what its benefit form needs to be paid: the rule of src/domain/nomination/intake.ts
-- (payableGaps), enforced by the database too.

-- 1. Repair: dialog nominations in a category with a single benefit form were stored without the form
--    (the dialog skips that question). The form is the category's only one.
UPDATE "nomination" n
SET "benefit_form" = c."benefit_forms"[1]
FROM "campaign_category" c
WHERE n."category_id" = c."id"
  AND n."benefit_form" IS NULL
  AND cardinality(c."benefit_forms") = 1;

-- 2. The rule. NOT VALID: rows this migration cannot repair (e.g. a transfer without a card) are not
--    changed silently; `npm run nominations:check` lists them for staff to return or reject. New rows
--    and every update are checked.
ALTER TABLE "nomination" ADD CONSTRAINT "nomination_payable_check" CHECK (
  "status" IN ('draft', 'returned', 'withdrawn', 'rejected')
  OR (
    "benefit_form" IS NOT NULL
    AND "amount_fen" IS NOT NULL AND "amount_fen" > 0
    AND ("benefit_form" <> 'transfer' OR ("bank_name" IS NOT NULL AND "bank_card_enc" IS NOT NULL))
    AND ("benefit_form" <> 'unit_condolence' OR "employer" IS NOT NULL)
  )
) NOT VALID;
COMMENT ON CONSTRAINT "nomination_payable_check" ON "nomination" IS 'manual: payable invariant (src/domain/nomination/intake.ts payableGaps); schema.prisma cannot express CHECK constraints';
